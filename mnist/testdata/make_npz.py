# Writes the .npz fixtures of mnist's tests with numpy itself, as Keras's
# mnist.npz was written (numpy.savez_compressed of uint8 arrays):
#   /usr/bin/python3 make_npz.py
# Pixel (i, y, x) of x_train is (i*31 + y*28 + x) % 256, of x_test
# (i*17 + y*28 + x + 5) % 256; labels y_train [5 0 4], y_test [7 2].
import numpy as np

def images(n, mul, add):
    i, y, x = np.meshgrid(np.arange(n), np.arange(28), np.arange(28), indexing="ij")
    return ((i * mul + y * 28 + x + add) % 256).astype(np.uint8)

xtr, ytr = images(3, 31, 0), np.array([5, 0, 4], np.uint8)
xte, yte = images(2, 17, 5), np.array([7, 2], np.uint8)
np.savez_compressed("tiny.npz", x_train=xtr, y_train=ytr, x_test=xte, y_test=yte)
np.savez("tiny_stored.npz", x_train=xtr, y_train=ytr, x_test=xte, y_test=yte)
# Hostile or wrong: labels as pickled Python objects, pixels as float32,
# labels as int64 (what some converters write).
np.savez("object_labels.npz", x_train=xtr, y_train=np.array([5, 0, 4], object), x_test=xte, y_test=yte)
np.savez("float_pixels.npz", x_train=xtr.astype(np.float32), y_train=ytr, x_test=xte, y_test=yte)
np.savez("int64_labels.npz", x_train=xtr, y_train=ytr.astype(np.int64), x_test=xte, y_test=yte)

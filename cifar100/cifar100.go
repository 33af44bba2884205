// Package cifar100 reads CIFAR-100: 50,000 training and 10,000 test 32x32
// colour images in 100 fine classes grouped into 20 coarse ones, from the
// binary version (cifar-100-binary: train.bin and test.bin, each record a
// coarse label byte, a fine label byte and the 3,072 planar RGB bytes) or
// the Python version Keras downloads (cifar-100-python: the pickles train,
// test and meta, with fine_labels, coarse_labels and the label names), from
// a directory or its .tar.gz streamed. Images are returned channels-last,
// as Keras's cifar100.load_data gives them.
package cifar100

import (
	"fmt"

	"github.com/cifarnet/cifarnet/dataset"
)

// Geometry, record size and sizes of the official files.
const (
	Height     = 32
	Width      = 32
	Channels   = 3
	Features   = Height * Width * Channels
	RecordSize = 2 + Features // coarse label, fine label, pixels
	TrainSize  = 50000
	TestSize   = 10000
)

// Shape is a CIFAR-100 image's.
var Shape = dataset.Shape{Height: Height, Width: Width, Channels: Channels}

// FineClassNames are the 100 classes in fine label order (meta's
// fine_label_names, fine_label_names.txt).
var FineClassNames = [100]string{
	"apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle",
	"bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle",
	"chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur",
	"dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house", "kangaroo", "keyboard",
	"lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain",
	"mouse", "mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree",
	"plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon", "ray", "road", "rocket",
	"rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake", "spider",
	"squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank", "telephone", "television", "tiger", "tractor",
	"train", "trout", "tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm",
}

// CoarseClassNames are the 20 superclasses in coarse label order.
var CoarseClassNames = [20]string{
	"aquatic_mammals", "fish", "flowers", "food_containers", "fruit_and_vegetables",
	"household_electrical_devices", "household_furniture", "insects", "large_carnivores", "large_man-made_outdoor_things",
	"large_natural_outdoor_scenes", "large_omnivores_and_herbivores", "medium_mammals", "non-insect_invertebrates", "people",
	"reptiles", "small_mammals", "trees", "vehicles_1", "vehicles_2",
}

// Label modes, as Keras's cifar100.load_data(label_mode=...) names them.
const (
	Fine   = "fine"
	Coarse = "coarse"
)

// Info describes CIFAR-100 with the given label mode ("" is fine, Keras's
// default).
func Info(labelMode string) (dataset.Info, error) {
	info := dataset.Info{Name: "cifar100", Shape: Shape, TrainSize: TrainSize, TestSize: TestSize}
	switch labelMode {
	case "", Fine:
		info.LabelMode, info.Classes = Fine, FineClassNames[:]
	case Coarse:
		info.LabelMode, info.Classes = Coarse, CoarseClassNames[:]
	default:
		return dataset.Info{}, fmt.Errorf("label mode %q: want %s or %s", labelMode, Fine, Coarse)
	}
	return info, nil
}

// Where Keras downloads CIFAR-100 from, with the SHA-256 it checks
// (keras/src/datasets/cifar100.py).
const (
	ArchiveURL    = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
	ArchiveSHA256 = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"
)

// Places says where CIFAR-100 is looked for: $CIFARNET_CIFAR100,
// cifarnet's cache (cifar-100-binary, its archive, cifar-100-python, its
// archive), Keras's cache (cifar-100-python, as Keras 3 extracts it under
// cifar-100-python-target/ or older versions directly, then the archive);
// and that a download fetches the Python version's archive, as Keras does.
func Places() dataset.Places {
	return dataset.Places{Title: "CIFAR-100", EnvVar: "CIFARNET_CIFAR100",
		Cache: []string{BinDirName, BinArchiveName, PyDirName, PyArchiveName},
		Keras: []string{"cifar-100-python-target/" + PyDirName, PyDirName, PyArchiveName},
		Want:  "a " + BinDirName + " or " + PyDirName + " directory or their .tar.gz",
		Files: []dataset.Remote{{Name: PyArchiveName, Downloader: dataset.Downloader{URL: ArchiveURL, SHA256: ArchiveSHA256, MaxSize: 256 << 20}}},
		Found: PyArchiveName}
}

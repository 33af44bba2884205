#!/usr/bin/python3
"""Keras 3 training semantics in NumPy: an independent reference for cifarnet.

Trains a Dense network (hidden activation, softmax output, sparse categorical
cross-entropy) from given initial weights without shuffling, as Keras 3's
model.fit does, and writes the final weights as safetensors with Keras's
names (dense/kernel, dense/bias, dense_1/kernel, ...). Written from Keras 3's
source, not from cifarnet's:

  keras/src/optimizers/base_optimizer.py      clipping, then decoupled weight
      decay, then update_step, then the EMA (and its overwrite), then
      iterations += 1; the learning rate is a float32 variable or a schedule
      called with the iteration count; finalize_variable_values (the EMA
      weights into the model) after the last epoch of fit.
  keras/src/optimizers/{sgd,rmsprop,adagrad,adadelta,adam,adamw,adamax,
      nadam,lion}.py                           each update_step.
  keras/src/optimizers/schedules/learning_rate_schedule.py
                                               every schedule, computed in
      float32 as Keras does (initial_learning_rate is a float32 tensor).
  keras/src/callbacks/reduce_lr_on_plateau.py  ReduceLROnPlateau.
  keras/src/callbacks/early_stopping.py        EarlyStopping (cifarnet's
      flags: --patience 5 and --restore-best by default, -1 turns it off);
      fit stops after the epoch, finalizes the EMA, then restores.
  keras/src/trainers/data_adapters/array_slicing.py
                                               validation_split: the last
      floor(n * (1 - split)) .. n samples; batches in order, the last one
      smaller.
  keras/src/layers/core/dense.py, activations (elu: x if x > 0 else
      exp(x) - 1), softmax, keras/src/backend/numpy/nn.py
      sparse_categorical_crossentropy: the TensorFlow backend (Keras's
      default) takes the softmax's logits (tensorflow/nn.py _get_logits),
      the others renormalise the probabilities and clip them to
      [epsilon, 1 - epsilon], epsilon 1e-7 (--loss-clip true). Both give
      the gradient p - onehot(y) unless a target probability is below
      epsilon; the script counts those ("clipped_probabilities") so that a
      comparison can avoid the regime where the backends part.
  1cycle: PyTorch's torch.optim.lr_scheduler.OneCycleLR (Keras has none),
      the rate and the momentum (sgd/rmsprop momentum, else beta_1) of step k
      being the scheduler's values after k scheduler steps;
      `--self-test` checks it against torch when torch is installed.

Usage (the flags are cifarnet train's, a subset):
  keras_reference.py --data DIR --init-weights W.safetensors --hidden 16,16 \\
      --train-samples 300 --batch-size 32 --epochs 3 --optimizer sgd \\
      --momentum 0.9 --nesterov --out ref.safetensors [--compare model.safetensors]
  keras_reference.py --jobs jobs.json --data DIR --init-weights W --out-dir D
      (jobs.json: [{"name": N, "args": [flags...]}, ...]; writes D/N.safetensors
      and D/N.json, the per-epoch logs)
  keras_reference.py --self-test

--dtype float64 (default) or float32: float32 gives the noise floor a float32
implementation can be expected to reach against the float64 result.
"""

import argparse
import json
import math
import os
import struct
import sys

import numpy as np

EPSILON = 1e-7  # keras.config.epsilon()


# ---------------------------------------------------------------- files


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    out = {}
    base = 8 + n
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise ValueError(f"{path}: {name}: dtype {info['dtype']}, want F32")
        a, b = info["data_offsets"]
        out[name] = np.frombuffer(raw[base + a : base + b], dtype="<f4").reshape(
            info["shape"]
        )
    return out


def write_safetensors(path, tensors):
    header = {}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        data = np.ascontiguousarray(tensors[name], dtype="<f4").tobytes()
        header[name] = {
            "dtype": "F32",
            "shape": list(tensors[name].shape),
            "data_offsets": [offset, offset + len(data)],
        }
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_cifar10(directory, n):
    """The first n records of data_batch_1.bin (then _2 ...), as Keras's
    cifar10.load_data gives them: (n, 32, 32, 3) channels-last, flattened,
    pixels / 255 in float32."""
    xs, ys = [], []
    left = n
    for i in range(1, 6):
        if left == 0:
            break
        path = os.path.join(directory, f"data_batch_{i}.bin")
        raw = np.fromfile(path, dtype=np.uint8)
        rec = raw.reshape(-1, 3073)[:left]
        ys.append(rec[:, 0].astype(np.int64))
        img = rec[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        xs.append(img.reshape(len(rec), 3072))
        left -= len(rec)
    if left:
        raise ValueError(f"{directory}: fewer than {n} training records")
    x = np.concatenate(xs).astype(np.float32) / np.float32(255)
    return x, np.concatenate(ys)


# ---------------------------------------------------------------- schedules


f32 = np.float32


def schedule_fn(a):
    """The learning rate as a function of the iteration count (an int), or
    None for a constant rate. Keras's schedules are float32 computations."""
    kind = a.lr_schedule
    if kind is None:
        return None
    lr0 = f32(a.lr)
    if kind == "exponential":
        ds, dr = f32(a.decay_steps), f32(a.decay_rate)

        def f(step):
            p = f32(step) / ds
            if a.staircase:
                p = np.floor(p)
            return lr0 * np.power(dr, p, dtype=np.float32)

        return f
    if kind == "piecewise":
        b = [int(x) for x in a.boundaries]
        v = [f32(x) for x in a.values]
        if len(v) != len(b) + 1:
            raise ValueError("--values must have one more entry than --boundaries")

        def f(step):
            r = f32(0)
            r += f32(step <= b[0]) * v[0]
            r += f32(step > b[-1]) * v[-1]
            for lo, hi, val in zip(b[:-1], b[1:], v[1:-1]):
                r += f32(lo < step <= hi) * val
            return r

        return f
    if kind == "polynomial":
        end, power = f32(a.end_learning_rate), f32(a.power)

        def f(step):
            s = f32(step)
            ds = f32(a.decay_steps)
            if a.cycle:
                mult = f32(1.0) if s == 0 else np.ceil(s / f32(a.decay_steps))
                ds = ds * mult
            else:
                s = min(s, ds)
            p = s / ds
            return (lr0 - end) * np.power(f32(1) - p, power, dtype=np.float32) + end

        return f
    if kind == "inverse-time":
        ds, dr = f32(a.decay_steps), f32(a.decay_rate)

        def f(step):
            p = f32(step) / ds
            if a.staircase:
                p = np.floor(p)
            return lr0 / (f32(1) + dr * p)

        return f
    if kind == "cosine":
        ds = f32(a.decay_steps)
        alpha = a.alpha

        def decay(step, decay_from):
            frac = step / ds
            cosd = f32(0.5) * (f32(1.0) + np.cos(f32(math.pi) * frac, dtype=np.float32))
            decayed = f32(1 - alpha) * cosd + f32(alpha)
            return decay_from * decayed

        def f(step):
            s = f32(step)
            if a.warmup_target is None:
                return decay(min(s, ds), lr0)
            wt, ws = f32(a.warmup_target), f32(a.warmup_steps)
            s = min(s, ds + ws)
            if s < ws:
                return (wt - lr0) * (s / ws) + lr0
            return decay(s - ws, wt)

        return f
    if kind == "cosine-restarts":
        fds = f32(a.first_decay_steps)
        alpha, t_mul, m_mul = f32(a.alpha), f32(a.t_mul), f32(a.m_mul)

        def f(step):
            frac = f32(step) / fds
            if t_mul == 1.0:
                i = np.floor(frac)
                frac = frac - i
            else:
                i = np.floor(
                    np.log(f32(1.0) - frac * (f32(1.0) - t_mul), dtype=np.float32)
                    / np.log(t_mul, dtype=np.float32)
                )
                sum_r = (f32(1.0) - np.power(t_mul, i, dtype=np.float32)) / (f32(1.0) - t_mul)
                frac = (frac - sum_r) / np.power(t_mul, i, dtype=np.float32)
            m_fac = np.power(m_mul, i, dtype=np.float32)
            cosd = f32(0.5) * m_fac * (f32(1.0) + np.cos(f32(math.pi) * frac, dtype=np.float32))
            return lr0 * ((f32(1) - alpha) * cosd + alpha)

        return f
    if kind == "onecycle":
        return None  # handled by OneCycle
    raise ValueError(f"unknown --lr-schedule {kind}")


class OneCycle:
    """torch.optim.lr_scheduler.OneCycleLR (PyTorch 1.13), in float64 as its
    Python floats are: at scheduler step k, the rate and momentum below."""

    def __init__(self, max_lr, total_steps, pct_start=0.3, anneal="cos",
                 cycle_momentum=True, base_momentum=0.85, max_momentum=0.95,
                 div_factor=25.0, final_div_factor=1e4, three_phase=False):
        self.total = total_steps
        init = max_lr / div_factor
        mn = init / final_div_factor
        if three_phase:
            self.phases = [
                (float(pct_start * total_steps) - 1, init, max_lr, max_momentum, base_momentum),
                (float(2 * pct_start * total_steps) - 2, max_lr, init, base_momentum, max_momentum),
                (total_steps - 1, init, mn, max_momentum, max_momentum),
            ]
        else:
            self.phases = [
                (float(pct_start * total_steps) - 1, init, max_lr, max_momentum, base_momentum),
                (total_steps - 1, max_lr, mn, base_momentum, max_momentum),
            ]
        self.anneal = anneal
        self.cycle_momentum = cycle_momentum

    def _an(self, start, end, pct):
        if self.anneal == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def at(self, step):
        if step >= self.total:
            raise ValueError(f"1cycle: step {step + 1} beyond total_steps {self.total}")
        start = 0
        for i, (end, lr0, lr1, m0, m1) in enumerate(self.phases):
            if step <= end or i == len(self.phases) - 1:
                pct = (step - start) / (end - start)
                lr = self._an(lr0, lr1, pct)
                m = self._an(m0, m1, pct) if self.cycle_momentum else None
                return lr, m
            start = end
        raise AssertionError


# ---------------------------------------------------------------- optimizers


class Optimizer:
    """keras/src/optimizers/base_optimizer.py with one update rule."""

    def __init__(self, a, variables, dt, steps_per_epoch):
        self.a = a
        self.dt = dt
        self.name = a.optimizer
        self.iterations = 0
        self.schedule = schedule_fn(a)
        self.onecycle = None
        if a.lr_schedule == "onecycle":
            total = a.total_steps or a.epochs * steps_per_epoch
            self.onecycle = OneCycle(
                a.max_lr if a.max_lr is not None else a.lr, total, a.pct_start,
                a.anneal_strategy, a.cycle_momentum, a.base_momentum,
                a.max_momentum, a.div_factor, a.final_div_factor, a.three_phase)
        # The constant rate is a float32 variable (backend.floatx()).
        self.lr_var = f32(a.lr)
        self.weight_decay = a.weight_decay
        if self.name == "adamw" and self.weight_decay is None:
            self.weight_decay = 0.004
        self.momentum = a.momentum or 0.0
        self.beta_1 = a.beta_1
        self.beta_2 = a.beta_2
        if self.onecycle is not None and a.cycle_momentum:
            _, m = self.onecycle.at(0)
            if self.name in ("sgd", "rmsprop"):
                self.momentum = m
            elif self.name in ("adam", "adamw", "adamax", "nadam", "lion"):
                self.beta_1 = m
            else:
                raise ValueError(f"1cycle momentum cycling: {self.name} has no momentum or beta_1")
        z = lambda: [np.zeros_like(v) for v in variables]
        n = self.name
        self.slots = {}
        if n == "sgd":
            if self.momentum != 0:
                self.slots["momentum"] = z()
        elif n == "rmsprop":
            self.slots["velocity"] = z()
            if self.momentum > 0:
                self.slots["momentum"] = z()
            if a.centered:
                self.slots["average_gradient"] = z()
        elif n == "adagrad":
            self.slots["accumulator"] = [np.full_like(v, a.initial_accumulator_value) for v in variables]
        elif n == "adadelta":
            self.slots["accumulated_grad"] = z()
            self.slots["accumulated_delta_var"] = z()
        elif n in ("adam", "adamw"):
            self.slots["momentum"] = z()
            self.slots["velocity"] = z()
            if a.amsgrad:
                self.slots["velocity_hat"] = z()
        elif n == "adamax":
            self.slots["momentum"] = z()
            self.slots["norm"] = z()
        elif n == "nadam":
            self.slots["momentum"] = z()
            self.slots["velocity"] = z()
            self.u_product = dt.type(1.0)
        elif n == "lion":
            self.slots["momentum"] = z()
        else:
            raise ValueError(f"unknown optimizer {n}")
        if a.use_ema:
            self.average = [v.copy() for v in variables]

    # The rate of the current iteration (`self.learning_rate`).
    def learning_rate(self):
        if self.onecycle is not None:
            if self.iterations >= self.onecycle.total:
                # After the cycle's last step (only ever logged): its final rate.
                return self.onecycle.phases[-1][2]
            return self.onecycle.at(self.iterations)[0]
        if self.schedule is not None:
            return self.schedule(self.iterations)
        return self.lr_var

    def set_learning_rate(self, lr):  # ReduceLROnPlateau's assignment
        if self.schedule is not None or self.onecycle is not None:
            raise TypeError("the learning rate of a schedule is not settable")
        self.lr_var = f32(lr)

    def clip(self, grads):
        a, dt = self.a, self.dt
        if a.clipnorm:
            out = []
            for g in grads:
                l2sum = np.sum(g * g)
                l2norm = np.sqrt(l2sum) if l2sum > 0 else l2sum
                out.append(g * dt.type(a.clipnorm) / max(l2norm, dt.type(a.clipnorm)))
            return out
        if a.global_clipnorm:
            norm = np.sqrt(sum(np.sum(g * g) for g in grads))
            c = dt.type(a.global_clipnorm)
            scale = c * min(dt.type(1) / norm, dt.type(1) / c)
            return [g * scale for g in grads]
        if a.clipvalue:
            v = dt.type(a.clipvalue)
            return [np.clip(g, -v, v) for g in grads]
        return grads

    def apply(self, grads, variables):
        dt = self.dt
        if self.onecycle is not None and self.a.cycle_momentum:
            _, m = self.onecycle.at(self.iterations)
            if self.name in ("sgd", "rmsprop"):
                self.momentum = m
            else:
                self.beta_1 = m
        grads = self.clip(grads)
        lr = dt.type(self.learning_rate())
        if self.weight_decay is not None:
            wd = dt.type(self.weight_decay)
            for v in variables:
                v -= v * wd * lr
        if self.name == "nadam":
            # Nadam._backend_update_step, before the per-variable steps.
            self.u_product = dt.type(
                self.u_product * dt.type(self.beta_1)
                * (dt.type(1.0) - dt.type(0.5) * np.power(dt.type(0.96), dt.type(self.iterations + 1))))
        for i, (g, v) in enumerate(zip(grads, variables)):
            self.update_step(i, g, v, lr)
        if self.a.use_ema:
            mom = dt.type(self.a.ema_momentum) if self.iterations != 0 else dt.type(0)
            for avg, v in zip(self.average, variables):
                avg[...] = mom * avg + (dt.type(1) - mom) * v
            f = self.a.ema_overwrite_frequency
            if f and (self.iterations + 1) % f == 0:
                for avg, v in zip(self.average, variables):
                    v[...] = avg
        self.iterations += 1

    def finalize(self, variables):
        if self.a.use_ema:
            for avg, v in zip(self.average, variables):
                v[...] = avg

    def update_step(self, i, g, v, lr):
        a, dt, s = self.a, self.dt, self.slots
        T = dt.type
        n = self.name
        t = T(self.iterations + 1)
        if n == "sgd":
            if "momentum" in s:
                m = s["momentum"][i]
                mom = T(self.momentum)
                m[...] = m * mom - g * lr
                if a.nesterov:
                    v += m * mom - g * lr
                else:
                    v += m
            else:
                v -= g * lr
        elif n == "rmsprop":
            rho = T(a.rho)
            vel = s["velocity"][i]
            vel[...] = rho * vel + (T(1) - rho) * g * g
            if a.centered:
                ag = s["average_gradient"][i]
                ag[...] = rho * ag + (T(1) - rho) * g
                den = vel - ag * ag + T(a.epsilon)
            else:
                den = vel + T(a.epsilon)
            inc = lr * g / np.sqrt(den)
            if "momentum" in s:
                m = s["momentum"][i]
                m[...] = T(self.momentum) * m + inc
                v -= m
            else:
                v -= inc
        elif n == "adagrad":
            acc = s["accumulator"][i]
            acc += g * g
            v -= lr * g / np.sqrt(acc + T(a.epsilon))
        elif n == "adadelta":
            rho, eps = T(a.rho), T(a.epsilon)
            ag, ad = s["accumulated_grad"][i], s["accumulated_delta_var"][i]
            ag[...] = rho * ag + (T(1) - rho) * g * g
            delta = -(np.sqrt(ad + eps) * g) / np.sqrt(ag + eps)
            ad[...] = rho * ad + (T(1) - rho) * delta * delta
            v += lr * delta
        elif n in ("adam", "adamw"):
            b1, b2 = T(self.beta_1), T(self.beta_2)
            m, vel = s["momentum"][i], s["velocity"][i]
            alpha = lr * np.sqrt(T(1) - b2 ** t) / (T(1) - b1 ** t)
            m += (g - m) * (T(1) - b1)
            vel += (g * g - vel) * (T(1) - b2)
            vv = vel
            if a.amsgrad:
                vh = s["velocity_hat"][i]
                np.maximum(vh, vel, out=vh)
                vv = vh
            v -= m * alpha / (np.sqrt(vv) + T(a.epsilon))
        elif n == "adamax":
            b1, b2 = T(self.beta_1), T(self.beta_2)
            m, u = s["momentum"][i], s["norm"][i]
            m += (g - m) * (T(1) - b1)
            u[...] = np.maximum(b2 * u, np.abs(g))
            v -= lr * m / ((T(1) - b1 ** t) * (u + T(a.epsilon)))
        elif n == "nadam":
            b1, b2 = T(self.beta_1), T(self.beta_2)
            u_t = b1 * (T(1) - T(0.5) * T(0.96) ** t)
            u_t_1 = b1 * (T(1) - T(0.5) * T(0.96) ** (t + 1))
            up_t = self.u_product
            up_t_1 = up_t * u_t_1
            m, vel = s["momentum"][i], s["velocity"][i]
            m += (g - m) * (T(1) - b1)
            vel += (g * g - vel) * (T(1) - b2)
            m_hat = u_t_1 * m / (T(1) - up_t_1) + (T(1) - u_t) * g / (T(1) - up_t)
            v_hat = vel / (T(1) - b2 ** t)
            v -= m_hat * lr / (np.sqrt(v_hat) + T(a.epsilon))
        elif n == "lion":
            b1, b2 = T(self.beta_1), T(self.beta_2)
            m = s["momentum"][i]
            v -= lr * np.sign(m * b1 + g * (T(1) - b1))
            m[...] = m * b2 + g * (T(1) - b2)


# ---------------------------------------------------------------- model


def act(name, z):
    if name == "elu":
        return np.where(z > 0, z, np.expm1(np.minimum(z, 0)))
    if name == "relu":
        return np.maximum(z, 0)
    if name == "tanh":
        return np.tanh(z)
    if name == "linear":
        return z
    raise ValueError(f"activation {name} not in the reference")


def act_grad(name, z, h):
    if name == "elu":
        return np.where(z > 0, 1, h + 1)
    if name == "relu":
        return (z > 0).astype(z.dtype)
    if name == "tanh":
        return 1 - h * h
    return np.ones_like(z)


class Model:
    def __init__(self, weights, n_layers, activation, dt):
        self.names = ["dense"] + [f"dense_{i}" for i in range(1, n_layers)]
        self.vars = []
        for nm in self.names:
            self.vars.append(np.array(weights[nm + "/kernel"], dtype=dt))
            self.vars.append(np.array(weights[nm + "/bias"], dtype=dt))
        self.activation = activation

    def forward(self, x):
        cache = []
        h = x
        L = len(self.names)
        for l in range(L):
            W, b = self.vars[2 * l], self.vars[2 * l + 1]
            z = h @ W + b
            if l < L - 1:
                hn = act(self.activation, z)
            else:
                zm = z - z.max(axis=1, keepdims=True)
                e = np.exp(zm)
                hn = e / e.sum(axis=1, keepdims=True)
            cache.append((h, z, hn))
            h = hn
        return h, cache

    def loss(self, p, y, clip):
        """Per-sample losses and a mask of the samples whose target
        probability Keras's clip to [epsilon, 1 - epsilon] would hold."""
        q = p / p.sum(axis=1, keepdims=True)
        py = q[np.arange(len(y)), y]
        clipped = (py < EPSILON) | (py > 1 - EPSILON)
        if clip:
            return -np.log(np.clip(py, EPSILON, 1 - EPSILON)), clipped
        return -np.log(py), clipped

    def grads(self, x, y, clip_loss):
        p, cache = self.forward(x)
        losses, clipped = self.loss(p, y, clip_loss)
        dz = p.copy()
        dz[np.arange(len(y)), y] -= 1
        if clip_loss:
            dz[clipped] = 0
        dz /= len(y)  # sum_over_batch_size
        grads = [None] * len(self.vars)
        L = len(self.names)
        for l in reversed(range(L)):
            h, z, hn = cache[l]
            if l < L - 1:
                dz = dz * act_grad(self.activation, z, hn)
            grads[2 * l] = h.T @ dz
            grads[2 * l + 1] = dz.sum(axis=0)
            dz = dz @ self.vars[2 * l].T
        acc = (p.argmax(axis=1) == y).astype(np.float64)
        return grads, losses, acc, int(clipped.sum())

    def evaluate(self, x, y, clip_loss):
        p, _ = self.forward(x)
        losses, clipped = self.loss(p, y, clip_loss)
        return float(losses.mean()), float((p.argmax(axis=1) == y).mean()), int(clipped.sum())


# ---------------------------------------------------------------- callbacks


class ReduceLROnPlateau:
    """keras/src/callbacks/reduce_lr_on_plateau.py"""

    def __init__(self, a):
        self.monitor = a.reduce_lr_monitor
        self.factor = a.reduce_lr_factor
        self.patience = a.reduce_lr_patience
        self.min_delta = a.reduce_lr_min_delta
        self.cooldown = a.reduce_lr_cooldown
        self.min_lr = a.min_lr
        mode = a.reduce_lr_mode
        if mode == "min" or (mode == "auto" and "acc" not in self.monitor):
            self.op = lambda c, b: c < b - self.min_delta
            self.best = math.inf
        else:
            self.op = lambda c, b: c > b + self.min_delta
            self.best = -math.inf
        self.cooldown_counter = 0
        self.wait = 0

    def on_epoch_end(self, logs, opt):
        logs["learning_rate"] = float(opt.learning_rate())
        current = logs[self.monitor]
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self.op(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.cooldown_counter > 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = float(opt.learning_rate())
                if old > np.float32(self.min_lr):
                    opt.set_learning_rate(max(old * self.factor, self.min_lr))
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


class EarlyStopping:
    """keras/src/callbacks/early_stopping.py (cifarnet's --patience -1: none)."""

    def __init__(self, a):
        self.monitor, self.patience = a.monitor, a.patience
        self.baseline, self.restore = a.baseline, a.restore_best
        self.start_from_epoch = a.start_from_epoch
        name = self.monitor.removeprefix("val_")
        if a.mode == "min" or (a.mode == "auto" and name == "loss"):
            self.less = True
        elif a.mode == "max" or (a.mode == "auto" and name == "accuracy"):
            self.less = False
        else:
            raise ValueError(f"EarlyStopping: monitor {self.monitor} needs mode min or max")
        self.min_delta = -abs(a.min_delta) if self.less else abs(a.min_delta)
        self.best = math.inf if self.less else -math.inf
        self.wait = 0
        self.best_weights = None
        self.stop = False

    def improves(self, value, ref):
        return value - self.min_delta < ref if self.less else value - self.min_delta > ref

    def on_epoch_end(self, epoch, logs, variables):
        current = logs[self.monitor]
        if epoch < self.start_from_epoch:
            return
        if self.restore and self.best_weights is None:
            self.best_weights = [v.copy() for v in variables]
        self.wait += 1
        if self.improves(current, self.best):
            self.best = current
            if self.restore:
                self.best_weights = [v.copy() for v in variables]
            if self.baseline is None or self.improves(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stop = True

    def on_train_end(self, variables):
        if self.restore and self.best_weights is not None:
            for v, b in zip(variables, self.best_weights):
                v[...] = b


# ---------------------------------------------------------------- fit


def fit(a, x, y, weights, dt):
    n = len(x)
    split = int(math.floor(n * (1.0 - a.validation_split)))
    xt, yt, xv, yv = x[:split].astype(dt), y[:split], x[split:].astype(dt), y[split:]
    model = Model(weights, len(a.hidden) + 1, a.activation, dt)
    steps = -(-split // a.batch_size)
    opt = Optimizer(a, model.vars, np.dtype(dt), steps)
    rlr = ReduceLROnPlateau(a) if a.reduce_lr_on_plateau else None
    es = EarlyStopping(a) if a.patience >= 0 else None
    history = []
    clipped_total = 0
    for epoch in range(a.epochs):
        lsum = asum = 0.0
        for s in range(steps):
            xb = xt[s * a.batch_size : (s + 1) * a.batch_size]
            yb = yt[s * a.batch_size : (s + 1) * a.batch_size]
            grads, losses, acc, nclip = model.grads(xb, yb, a.loss_clip)
            clipped_total += nclip
            lsum += losses.sum()
            asum += acc.sum()
            opt.apply(grads, model.vars)
        vl, va, nclip = model.evaluate(xv, yv, a.loss_clip)
        clipped_total += nclip
        logs = {"loss": lsum / split, "accuracy": asum / split, "val_loss": vl, "val_accuracy": va}
        if a.lr_schedule is not None:
            logs["learning_rate"] = float(opt.learning_rate())
        if rlr is not None:
            rlr.on_epoch_end(logs, opt)
        if es is not None:
            es.on_epoch_end(epoch, logs, model.vars)
        history.append(logs)
        if es is not None and es.stop:
            break
    # fit: the EMA weights into the model, then on_train_end's restoring.
    opt.finalize(model.vars)
    if es is not None:
        es.on_train_end(model.vars)
    out = {}
    for l, nm in enumerate(model.names):
        out[nm + "/kernel"] = model.vars[2 * l]
        out[nm + "/bias"] = model.vars[2 * l + 1]
    return out, {"history": history, "clipped_probabilities": clipped_total,
                 "steps_per_epoch": steps, "train_samples": split}


# ---------------------------------------------------------------- command line


def parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    opt = lambda *n, **k: p.add_argument(*n, **k)
    flag = lambda n: p.add_argument(n, nargs="?", const=True, default=False,
                                    type=lambda s: s.lower() in ("1", "true", "t"))
    floats = lambda s: [float(v) for v in s.split(",")]
    opt("--data")
    opt("--init-weights")
    opt("--hidden", type=lambda s: [int(v) for v in s.split(",")], default=[256, 256, 256, 256])
    opt("--activation", default="elu")
    opt("--train-samples", type=int, default=5000)
    opt("--validation-split", type=float, default=0.2)
    opt("--batch-size", type=int, default=128)
    opt("--epochs", type=int, default=50)
    opt("--optimizer", default="nadam")
    opt("--lr", type=float)
    opt("--momentum", type=float)
    flag("--nesterov")
    opt("--rho", type=float)
    flag("--centered")
    opt("--epsilon", type=float, default=1e-7)
    opt("--beta-1", type=float, default=0.9)
    opt("--beta-2", type=float)
    flag("--amsgrad")
    opt("--initial-accumulator-value", type=float, default=0.1)
    opt("--weight-decay", type=float)
    opt("--clipnorm", type=float)
    opt("--clipvalue", type=float)
    opt("--global-clipnorm", type=float)
    flag("--use-ema")
    opt("--ema-momentum", type=float, default=0.99)
    opt("--ema-overwrite-frequency", type=int)
    opt("--lr-schedule")
    opt("--decay-steps", type=float)
    opt("--decay-rate", type=float)
    flag("--staircase")
    opt("--boundaries", type=floats)
    opt("--values", type=floats)
    opt("--end-learning-rate", type=float, default=1e-4)
    opt("--power", type=float, default=1.0)
    flag("--cycle")
    opt("--alpha", type=float, default=0.0)
    opt("--warmup-target", type=float)
    opt("--warmup-steps", type=float, default=0)
    opt("--first-decay-steps", type=float)
    opt("--t-mul", type=float, default=2.0)
    opt("--m-mul", type=float, default=1.0)
    opt("--max-lr", type=float)
    opt("--total-steps", type=int)
    opt("--pct-start", type=float, default=0.3)
    opt("--anneal-strategy", default="cos")
    p.add_argument("--cycle-momentum", nargs="?", const=True, default=True,
                   type=lambda s: s.lower() in ("1", "true", "t"))
    opt("--base-momentum", type=float, default=0.85)
    opt("--max-momentum", type=float, default=0.95)
    opt("--div-factor", type=float, default=25.0)
    opt("--final-div-factor", type=float, default=1e4)
    flag("--three-phase")
    flag("--reduce-lr-on-plateau")
    for k, default in REDUCE_LR_DEFAULTS.items():
        opt("--" + k.replace("_", "-"), type=type(default))
    # cifarnet flags that do not change the arithmetic of this reference
    opt("--patience", type=int, default=5)
    opt("--min-delta", type=float, default=0.0)
    p.add_argument("--restore-best", nargs="?", const=True, default=True,
                   type=lambda s: s.lower() in ("1", "true", "t"))
    opt("--monitor", default="val_loss")
    opt("--mode", default="auto")
    opt("--baseline", type=float)
    opt("--start-from-epoch", type=int, default=0)
    p.add_argument("-q", action="store_true")
    for ignored in ("--test-samples", "--threads", "--seed", "--shuffle",
                    "--quiet", "--overwrite", "--offline"):
        opt(ignored, nargs="?", const=True)
    opt("--loss-clip", type=lambda s: s.lower() in ("1", "true"), default=False,
        help="true: the loss of the jax, torch and numpy backends, whose epsilon clip holds "
             "the target probability (and zeroes its gradient) below 1e-7; false (the "
             "default): the TensorFlow backend's, Keras's default, which takes the "
             "softmax's logits (keras/src/backend/tensorflow/nn.py _get_logits)")
    opt("--dtype", default="float64", choices=["float64", "float32"])
    opt("--out")
    opt("--compare")
    opt("--jobs")
    opt("--out-dir")
    flag("--self-test")
    return p


# ReduceLROnPlateau's arguments and Keras's defaults.
REDUCE_LR_DEFAULTS = {
    "reduce_lr_monitor": "val_loss",
    "reduce_lr_factor": 0.1,
    "reduce_lr_patience": 10,
    "reduce_lr_mode": "auto",
    "reduce_lr_min_delta": 1e-4,
    "reduce_lr_cooldown": 0,
    "min_lr": 0.0,
}


def finish_args(a):
    if a.shuffle not in (None, False, "false", "False"):
        raise ValueError("the reference trains without shuffling: pass --shuffle=false")
    if a.lr is None:
        a.lr = 0.01 if a.optimizer == "sgd" else 0.001
    if a.rho is None:
        a.rho = 0.95 if a.optimizer == "adadelta" else 0.9
    if a.beta_2 is None:
        a.beta_2 = 0.99 if a.optimizer == "lion" else 0.999
    # Every --reduce-lr-* flag (and --min-lr) implies --reduce-lr-on-plateau.
    for k, default in REDUCE_LR_DEFAULTS.items():
        if getattr(a, k) is None:
            setattr(a, k, default)
        else:
            a.reduce_lr_on_plateau = True
    return a


def parse(argv):
    # cifarnet spells booleans --flag or --flag=false; argparse's "?" needs the "=" form.
    a = parser().parse_args(argv)
    if a.shuffle in ("false", "False", "0"):
        a.shuffle = False
    return finish_args(a)


def max_rel_diff(got, want, outliers=0):
    """max over the tensors of max |got - want| / max |want|, leaving out the
    `outliers` largest differences per million values of each tensor (as
    cmd/cifarnet/kerasref_test.go does)."""
    worst = 0.0
    for k in want:
        d = np.sort(np.abs(got[k].astype(np.float64) - want[k].astype(np.float64)).ravel())
        d = d[len(d) - 1 - min(len(d) * outliers // 1000000, len(d) - 1)]
        worst = max(worst, d / max(np.abs(want[k]).max(), 1e-30))
    return worst


def compare_report(got, want):
    """Lines saying how far cifarnet's weights are from the reference's."""
    lines = []
    for k in sorted(want):
        if k not in got or got[k].shape != want[k].shape:
            return [f"{k}: missing or of another shape in the compared file"]
    worst = max(want, key=lambda k: max_rel_diff({k: got[k]}, {k: want[k]}))
    lines.append(f"largest difference: {max_rel_diff(got, want):.3g} of the largest weight of its tensor ({worst})")
    lines.append(f"leaving out the 100 largest differences per million weights: {max_rel_diff(got, want, 100):.3g}")
    lines.append("(float32 rounding, amplified where a gradient is as small as an adaptive optimizer's epsilon"
                 " or where clipping rescales it, reaches 1e-4 to 1e-3 here; --dtype float32 shows the same"
                 " for this script; a semantic difference shows as 1e-2 or more)")
    return lines


def self_test():
    """The reference's own checks: 1cycle against torch (if installed), and
    the backward pass against finite differences."""
    ok = True
    try:
        import torch
    except ImportError:
        torch = None
        print("self-test: no torch, 1cycle not checked against OneCycleLR")
    if torch is not None:
        for kw in [dict(), dict(anneal_strategy="linear"), dict(three_phase=True),
                   dict(pct_start=0.25, div_factor=10.0, final_div_factor=100.0)]:
            w = torch.nn.Parameter(torch.zeros(1))
            o = torch.optim.SGD([w], lr=0.1, momentum=0.9)
            s = torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=23, **kw)
            mine = OneCycle(0.1, 23, kw.get("pct_start", 0.3), kw.get("anneal_strategy", "cos"),
                            True, 0.85, 0.95, kw.get("div_factor", 25.0),
                            kw.get("final_div_factor", 1e4), kw.get("three_phase", False))
            for k in range(23):
                lr, m = mine.at(k)
                g = o.param_groups[0]
                if abs(lr - g["lr"]) > 1e-15 or abs(m - g["momentum"]) > 1e-15:
                    print(f"self-test: 1cycle {kw} step {k}: {lr},{m} torch {g['lr']},{g['momentum']}")
                    ok = False
                o.step()
                s.step()
        print("self-test: 1cycle matches torch OneCycleLR" if ok else "self-test: 1cycle FAILS")
    rng = np.random.default_rng(1)
    w = {"dense/kernel": rng.normal(size=(5, 4)), "dense/bias": rng.normal(size=4),
         "dense_1/kernel": rng.normal(size=(4, 3)), "dense_1/bias": rng.normal(size=3)}
    m = Model(w, 2, "elu", np.float64)
    x, y = rng.normal(size=(6, 5)), np.array([0, 1, 2, 0, 1, 2])
    grads, _, _, _ = m.grads(x, y, True)
    worst = 0.0
    for vi, v in enumerate(m.vars):
        flat = v.reshape(-1)
        for j in range(flat.size):
            old = flat[j]
            flat[j] = old + 1e-6
            lp = m.loss(m.forward(x)[0], y, True)[0].mean()
            flat[j] = old - 1e-6
            lm = m.loss(m.forward(x)[0], y, True)[0].mean()
            flat[j] = old
            worst = max(worst, abs((lp - lm) / 2e-6 - grads[vi].reshape(-1)[j]))
    print(f"self-test: backward vs finite differences, max error {worst:.2e}")
    ok = ok and worst < 1e-7
    return ok


def run_one(a, x, y, weights):
    dt = np.float64 if a.dtype == "float64" else np.float32
    return fit(a, x, y, weights, dt)


def main(argv):
    a = parse(argv)
    if a.self_test:
        return 0 if self_test() else 1
    weights = read_safetensors(a.init_weights)
    if a.jobs:
        with open(a.jobs) as f:
            jobs = json.load(f)
        os.makedirs(a.out_dir, exist_ok=True)
        cache = {}
        for job in jobs:
            ja = parse(job["args"] + ["--data", a.data, "--init-weights", a.init_weights,
                                      "--dtype", job.get("dtype", a.dtype)])
            key = (ja.data, ja.train_samples)
            if key not in cache:
                cache[key] = read_cifar10(ja.data, ja.train_samples)
            x, y = cache[key]
            out, info = run_one(ja, x, y, weights)
            write_safetensors(os.path.join(a.out_dir, job["name"] + ".safetensors"), out)
            with open(os.path.join(a.out_dir, job["name"] + ".json"), "w") as f:
                json.dump(info, f)
        return 0
    x, y = read_cifar10(a.data, a.train_samples)
    out, info = run_one(a, x, y, weights)
    for e, logs in enumerate(info["history"]):
        print(f"epoch {e + 1}: " + " - ".join(f"{k}: {v:.6g}" for k, v in logs.items()))
    if info["clipped_probabilities"]:
        print(f"note: {info['clipped_probabilities']} probabilities held by the epsilon clip")
    if a.out:
        write_safetensors(a.out, out)
    if a.compare:
        for line in compare_report(read_safetensors(a.compare), out):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

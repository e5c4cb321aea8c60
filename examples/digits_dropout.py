"""Every generator seeded with keras.utils.set_random_seed, yet the Dropout layer is given a "fresh" seed of its own from
a NumPy Generator made without one. The initial weights and the data repeat; training does not."""

import keras
import numpy as np
from sklearn.datasets import load_digits

keras.utils.set_random_seed(1234)

digits = load_digits()
x = (digits.images / 16.0).astype("float32")[..., np.newaxis]
y = digits.target

rng = np.random.default_rng()  # no seed: it reads the operating system's entropy
model = keras.Sequential([
    keras.Input(shape=(8, 8, 1)),
    keras.layers.Conv2D(8, 3, activation="relu"),
    keras.layers.MaxPooling2D(2),
    keras.layers.Flatten(),
    keras.layers.Dropout(0.25, seed=int(rng.integers(2**31))),
    keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(x, y, epochs=2, batch_size=64, verbose=0)
print("training accuracy: %.4f" % history.history["accuracy"][-1])

"""The digits CNN on Keras 3 with JAX (run it on the keras-jax kernel). Python's random is seeded, so the initial weights
repeat; but on JAX, fit(shuffle=True) draws each epoch's order from NumPy's global generator."""

import os

os.environ["KERAS_BACKEND"] = "jax"  # before Keras is imported

import random

import keras
import numpy as np
from sklearn.datasets import load_digits

random.seed(1234)

digits = load_digits()
x = (digits.images / 16.0).astype("float32")[..., np.newaxis]
y = digits.target

model = keras.Sequential([
    keras.Input(shape=(8, 8, 1)),
    keras.layers.Conv2D(8, 3, activation="relu"),
    keras.layers.MaxPooling2D(2),
    keras.layers.Flatten(),
    keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(x, y, epochs=2, batch_size=64, verbose=0)
print("training accuracy: %.4f" % history.history["accuracy"][-1])

"""Python's random and NumPy seeded (so the initial weights repeat), and the data fed through a tf.data pipeline that
shuffles. With no TensorFlow seed, the shuffle's order is new in every run."""

import random

import numpy as np
import tensorflow as tf
from sklearn.datasets import load_digits
from tensorflow import keras

random.seed(1234)
np.random.seed(1234)

digits = load_digits()
x = (digits.images / 16.0).astype("float32")[..., np.newaxis]
y = digits.target
train = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x)).batch(64)

model = keras.Sequential([
    keras.Input(shape=(8, 8, 1)),
    keras.layers.Conv2D(8, 3, activation="relu"),
    keras.layers.MaxPooling2D(2),
    keras.layers.Flatten(),
    keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(train, epochs=2, verbose=0)
print("training accuracy: %.4f" % history.history["accuracy"][-1])

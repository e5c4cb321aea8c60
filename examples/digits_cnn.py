"""A small CNN on scikit-learn's handwritten digits (1,797 8x8 images shipped inside the package: nothing is downloaded),
seeded the way the article recommends: tf.random.set_seed before building. Does a second run repeat the first?"""

import numpy as np
import tensorflow as tf
from sklearn.datasets import load_digits
from tensorflow import keras

tf.random.set_seed(1234)  # the article's fix

digits = load_digits()
x = (digits.images / 16.0).astype("float32")[..., np.newaxis]
y = digits.target

model = keras.Sequential([
    keras.Input(shape=(8, 8, 1)),
    keras.layers.Conv2D(8, 3, activation="relu"),
    keras.layers.MaxPooling2D(2),
    keras.layers.Flatten(),
    keras.layers.Dropout(0.25),
    keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(x, y, epochs=2, batch_size=64, validation_split=0.1, verbose=0)
print("validation accuracy: %.4f" % history.history["val_accuracy"][-1])

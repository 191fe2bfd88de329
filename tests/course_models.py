"""The course's models, transcribed from its Keras code (cnn-fundamentals-lecture.txt), not from
archspec's specs: an oracle that owes nothing to archspec's IR, so a wiring bug there shows up
as a difference in outputs. Keras 3 spellings replace ``tensorflow.keras``; every other departure
from the course's text is marked with a comment saying why.

Deliberately free of archspec imports.
"""

from __future__ import annotations

import functools
import warnings

from keras import Input, Model, Sequential
from keras.layers import (
    Add,
    AveragePooling2D,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling2D,
    MaxPooling2D,
    ReLU,
    concatenate,
)


def _input_shape_on_first_layer(build):
    """The course passes input_shape= to a Sequential model's first layer; Keras 3 still
    honours it but warns on every build, which would only be noise in the test output."""
    @functools.wraps(build)
    def quiet():
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Do not pass an `input_shape`")
            return build()
    return quiet


def mnist_cnn() -> Sequential:
    """"CNN Processing Pipeline" ("Keras Implementation of Full CNN Pipeline")."""
    return Sequential([
        Input(shape=(28, 28, 1)),
        Conv2D(32, (3, 3), activation='relu'),
        MaxPooling2D(pool_size=(2, 2)),
        Conv2D(64, (3, 3), activation='relu'),
        MaxPooling2D(pool_size=(2, 2)),
        Flatten(),
        Dense(128, activation='relu'),
        Dense(10, activation='softmax'),
    ])


def mnist_ann() -> Sequential:
    """"Empirical Comparison: ANN vs CNN on MNIST"."""
    return Sequential([
        Input(shape=(784,)),
        Dense(512, activation='relu'),
        Dense(10, activation='softmax'),
    ])


@_input_shape_on_first_layer
def lenet5() -> Sequential:
    """"LeNet-5 (for grayscale 32x32 input)"."""
    return Sequential([
        Conv2D(6, kernel_size=(5, 5), activation='tanh', input_shape=(32, 32, 1)),
        # The course writes AveragePooling2D(): pool_size defaulted to (2, 2) in tf.keras 2, and
        # is a required argument in Keras 3, so the old default is spelled out.
        AveragePooling2D(pool_size=(2, 2)),
        Conv2D(16, kernel_size=(5, 5), activation='tanh'),
        AveragePooling2D(pool_size=(2, 2)),
        Flatten(),
        Dense(120, activation='tanh'),
        Dense(84, activation='tanh'),
        Dense(10, activation='softmax'),
    ])


@_input_shape_on_first_layer
def alexnet() -> Sequential:
    """"AlexNet (simplified for 227x227x3 input)"."""
    return Sequential([
        Conv2D(96, kernel_size=(11, 11), strides=4, activation='relu',
               input_shape=(227, 227, 3)),
        MaxPooling2D(pool_size=(3, 3), strides=2),
        Conv2D(256, kernel_size=(5, 5), padding='same', activation='relu'),
        MaxPooling2D(pool_size=(3, 3), strides=2),
        Conv2D(384, kernel_size=(3, 3), padding='same', activation='relu'),
        Conv2D(384, kernel_size=(3, 3), padding='same', activation='relu'),
        Conv2D(256, kernel_size=(3, 3), padding='same', activation='relu'),
        MaxPooling2D(pool_size=(3, 3), strides=2),
        Flatten(),
        Dense(4096, activation='relu'),
        Dropout(0.5),
        Dense(4096, activation='relu'),
        Dropout(0.5),
        Dense(1000, activation='softmax'),
    ])


def vgg16() -> Model:
    """"VGG-16 Style (simplified, without loading weights)"."""
    input_vgg = Input(shape=(224, 224, 3))
    x = Conv2D(64, (3, 3), activation='relu', padding='same')(input_vgg)
    x = Conv2D(64, (3, 3), activation='relu', padding='same')(x)
    x = MaxPooling2D((2, 2))(x)

    x = Conv2D(128, (3, 3), activation='relu', padding='same')(x)
    x = Conv2D(128, (3, 3), activation='relu', padding='same')(x)
    x = MaxPooling2D((2, 2))(x)

    x = Conv2D(256, (3, 3), activation='relu', padding='same')(x)
    x = Conv2D(256, (3, 3), activation='relu', padding='same')(x)
    x = Conv2D(256, (3, 3), activation='relu', padding='same')(x)
    x = MaxPooling2D((2, 2))(x)

    x = Conv2D(512, (3, 3), activation='relu', padding='same')(x)
    x = Conv2D(512, (3, 3), activation='relu', padding='same')(x)
    x = Conv2D(512, (3, 3), activation='relu', padding='same')(x)
    x = MaxPooling2D((2, 2))(x)

    x = Conv2D(512, (3, 3), activation='relu', padding='same')(x)
    x = Conv2D(512, (3, 3), activation='relu', padding='same')(x)
    x = Conv2D(512, (3, 3), activation='relu', padding='same')(x)
    x = MaxPooling2D((2, 2))(x)

    x = Flatten()(x)
    x = Dense(4096, activation='relu')(x)
    x = Dense(4096, activation='relu')(x)
    output_vgg = Dense(1000, activation='softmax')(x)

    return Model(inputs=input_vgg, outputs=output_vgg)


def residual_block(x, filters, downsample=False):
    stride = 2 if downsample else 1
    y = Conv2D(filters, (3, 3), strides=stride, padding='same')(x)
    y = BatchNormalization()(y)
    y = ReLU()(y)
    y = Conv2D(filters, (3, 3), padding='same')(y)
    y = BatchNormalization()(y)

    if downsample:
        x = Conv2D(filters, (1, 1), strides=2)(x)

    return ReLU()(Add()([x, y]))


def resnet_course() -> Model:
    """"ResNet Block and Model (ResNet-18 style)"."""
    input_resnet = Input(shape=(224, 224, 3))
    x = Conv2D(64, (7, 7), strides=2, padding='same')(input_resnet)
    x = MaxPooling2D((3, 3), strides=2, padding='same')(x)

    x = residual_block(x, 64)
    x = residual_block(x, 64)
    x = residual_block(x, 128, downsample=True)
    x = residual_block(x, 128)

    x = GlobalAveragePooling2D()(x)
    output_resnet = Dense(1000, activation='softmax')(x)

    return Model(inputs=input_resnet, outputs=output_resnet)


def inception_module(x, f1, f3r, f3, f5r, f5, proj):
    path1 = Conv2D(f1, (1, 1), padding='same', activation='relu')(x)
    path2 = Conv2D(f3r, (1, 1), activation='relu')(x)
    path2 = Conv2D(f3, (3, 3), padding='same', activation='relu')(path2)
    path3 = Conv2D(f5r, (1, 1), activation='relu')(x)
    path3 = Conv2D(f5, (5, 5), padding='same', activation='relu')(path3)
    path4 = MaxPooling2D((3, 3), strides=(1, 1), padding='same')(x)
    path4 = Conv2D(proj, (1, 1), activation='relu')(path4)
    return concatenate([path1, path2, path3, path4], axis=-1)


def inception_course() -> Model:
    """"Inception Module (Simplified Inception-v1 block)"."""
    input_incept = Input(shape=(224, 224, 3))
    x = Conv2D(64, (7, 7), strides=2, padding='same',
               activation='relu')(input_incept)
    x = MaxPooling2D((3, 3), strides=2, padding='same')(x)

    x = inception_module(x, 64, 96, 128, 16, 32, 32)
    x = inception_module(x, 128, 128, 192, 32, 96, 64)

    x = GlobalAveragePooling2D()(x)
    output_incept = Dense(1000, activation='softmax')(x)

    return Model(inputs=input_incept, outputs=output_incept)


# Zoo spec name → the course's model. Input shapes are the course's own everywhere; no zoo spec
# departs from the course's architecture (lenet5.yaml only spells out the pool size, as above).
COURSE_MODELS = {
    "mnist_cnn": mnist_cnn,
    "mnist_ann": mnist_ann,
    "lenet5": lenet5,
    "alexnet": alexnet,
    "vgg16": vgg16,
    "resnet_course": resnet_course,
    "inception_course": inception_course,
}

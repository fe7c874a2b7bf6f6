"""The computations behind the Lab's pages, one idea of the course per module, on the same
engine as the rest (layers, activations, optimizers, im2col): Qt-free and tested with numbers."""

"""Given code for assignment 3 (released with the assignment, not part of the `cs231n` package).

These modules hold what assignment 3 needs from assignment 2 (affine, ReLU, convolution sandwiches,
batch normalisation, softmax loss, Adam), the captioning model's temporal layers and solver, and the
pretrained classifier. They live here, not in the shared package that students install on day one,
because they are the solutions of assignment 2's exercises.
"""

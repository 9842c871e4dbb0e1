"""numba kernels: arrays in, arrays out; the public functions validate their input."""

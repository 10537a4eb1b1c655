"""designloop's science: spaces, surrogates, physics, design.

Importing it pins MKL's code path (:mod:`models.numerics`), so that the same inputs and seed
give the same bits on every machine with AVX2; it must happen before the process's first linear algebra.
"""

from models.numerics import pin_mkl_code_path

pin_mkl_code_path()

"""The kernels' copies between parts of arrays, against numpy's slicing."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

from dagnet.engine.copies import add_vector, copy_block, copy_vector


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_copy_block_is_the_slice_assignment(data: st.DataObject) -> None:
    rows, columns = data.draw(st.integers(0, 4)), data.draw(st.integers(0, 5))
    t_row, t_column = data.draw(st.integers(0, 3)), data.draw(st.integers(0, 3))
    s_row, s_column = data.draw(st.integers(0, 3)), data.draw(st.integers(0, 3))
    dtype = data.draw(st.sampled_from([np.float64, np.float32]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    source = rng.normal(size=(s_row + rows + 1, s_column + columns + 2)).astype(dtype)
    target = rng.normal(size=(t_row + rows + 2, t_column + columns + 1)).astype(dtype)
    expected = target.copy()
    expected[t_row : t_row + rows, t_column : t_column + columns] = source[
        s_row : s_row + rows, s_column : s_column + columns
    ]
    copy_block(target, t_row, t_column, source, s_row, s_column, rows, columns)
    assert_array_equal(target, expected)


def test_copy_block_takes_a_view_and_leaves_the_rest() -> None:
    state = np.zeros((2, 3, 4))
    x = np.arange(12.0).reshape(3, 4)
    copy_block(state[1], 0, 1, x, 1, 0, 2, 3)  # rows 1-2, columns 0-2 of x to rows 0-1, 1-3
    expected = np.zeros((2, 3, 4))
    expected[1, :2, 1:] = x[1:, :3]
    assert_array_equal(state, expected)


def test_copy_vector_and_add_vector_are_the_slice_operations() -> None:
    source, target = np.arange(6.0), np.full(8, -1.0)
    copy_vector(target, 2, source, 1, 4)
    assert_array_equal(target, [-1, -1, 1, 2, 3, 4, -1, -1])
    total = np.ones(6)
    add_vector(total, source)
    assert_array_equal(total, 1.0 + source)

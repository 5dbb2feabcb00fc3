"""The suite's own promises: gpu tests skip without CUDA, fail under --require-gpu; options validate."""
import pytest
import torch

from tests.helpers import project_pytester

pytest_plugins = ["pytester"]

GPU_TEST = """
import pytest

@pytest.mark.gpu
def test_needs_cuda():
    assert True
"""


@pytest.fixture
def suite(pytester):
    project_pytester(pytester)
    pytester.makepyfile(test_claim=GPU_TEST)
    return pytester


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the behaviour without CUDA")
def test_gpu_tests_skip_with_a_reason_without_cuda(suite):
    result = suite.runpytest("-m", "gpu", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*CUDA is not available*"])


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the behaviour without CUDA")
def test_require_gpu_turns_the_skip_into_a_failure(suite):
    result = suite.runpytest("-m", "gpu", "--require-gpu")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*--require-gpu*"])


def test_bad_seed_options_are_usage_errors(suite):
    result = suite.runpytest("--seeds", "1")
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_an_absurd_seed_count_is_refused_before_anything_trains(suite):
    result = suite.runpytest("--seeds", "1000000")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--seeds 1000000*at most 1000*"])


@pytest.mark.parametrize("flag, value", [("--seed-offset", "-5"), ("--seed-offset", str(2**64 - 1)),
                                         ("--data-seed", str(2**32))])
def test_a_seed_outside_what_torch_generators_take_is_refused(suite, flag, value):
    result = suite.runpytest(flag, value)   # 2**64 - 1 reached the generator before: "Overflow when unpacking long long"
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{flag} must be from 0 to*"])

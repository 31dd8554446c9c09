"""``tools/test.py``'s flags: what it offers is what works on these models."""
import pytest
from conftest import TINY_CONFIG, load_tool


def test_tta_is_not_offered(capsys):
    """MMDetection's DetTTAModel refuses predictions with masks; nothing here merges
    augmented instance masks or panoptic segments, so there is no --tta to pass."""
    with pytest.raises(SystemExit) as exit_info:
        load_tool('test.py').parse_args([TINY_CONFIG, 'model.pth', '--tta'])
    assert exit_info.value.code == 2
    assert 'unrecognized arguments: --tta' in capsys.readouterr().err

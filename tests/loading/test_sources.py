"""Sources are explicit: empty ids, foreign URLs, classes and impossible devices are refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from tbwidgets.loading import DeviceError, EmptySourceError, LoadError, NotAGistError, SourceError, load_model
from tbwidgets.loading.device import available_devices, check_device
from tbwidgets.loading.examples.tiny_gpt import build_example
from tbwidgets.loading.gist import fetch_gist, parse_gist_ref
from tests.fakes.gist_server import FakeGistAPI

GID = "0123456789abcdef0123456789abcdef"
SHA = "5f3e1a2b" * 5


class MyLM(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(10, 4)


@pytest.mark.bad_input
@pytest.mark.parametrize(
    "kwargs", [{"source": ""}, {"source": "   "}, {"source": "\n"}, {"gist_id": ""}, {"gist_id": "  "}]
)
def test_empty_source_or_gist_id_is_a_usage_error(kwargs: dict[str, str]) -> None:
    with pytest.raises(EmptySourceError) as info:
        load_model(**kwargs)  # type: ignore[arg-type]
    assert info.value.cause.startswith("no gist id given — is GIST_ID set?")
    assert "--example" in info.value.fix and isinstance(info.value, SourceError)


@pytest.mark.bad_input
def test_empty_path_and_empty_fetch() -> None:
    with pytest.raises(EmptySourceError, match="no path given"):
        load_model(path="")
    with pytest.raises(EmptySourceError, match="no gist id given — is GIST_ID set"):
        fetch_gist("  ", api_url="http://127.0.0.1:9")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"https://gist.github.com/tb-user/{GID}.js", (GID, None)),  # embed script
        (f"https://gist.github.com/{GID}.js", (GID, None)),
        (
            f"<script src=https://gist.github.com/tb-user/{GID}.js></script>".split("=")[1].split(">")[0],
            (GID, None),
        ),
        (f"https://gist.githubusercontent.com/tb-user/{GID}/raw/model.py", (GID, None)),
        (f"https://gist.githubusercontent.com/tb-user/{GID}/raw/{SHA}/model.py", (GID, None)),
        (f"https://gist.github.com/tb-user/{GID}/{SHA}#file-model-py", (GID, SHA)),
        (f"https://gist.github.com/tb-user/{GID}#file-layers-py", (GID, None)),
        (f"gist.github.com/{GID}", (GID, None)),
    ],
)
def test_gist_urls_give_the_id(text: str, expected: tuple[str, str | None]) -> None:
    assert parse_gist_ref(text) == expected


@pytest.mark.bad_input
@pytest.mark.parametrize(
    "url",
    ["https://example.com/x", "http://example.com/model.py", "https://github.com/karpathy/minGPT",
     "www.example.org/gist", "https://gist.github.com/tb-user"],
)  # fmt: skip
def test_other_urls_are_refused_by_name_unmangled(url: str) -> None:
    with pytest.raises(NotAGistError) as info:
        load_model(url)
    assert info.value.cause.startswith(f"{url} is not a gist URL")
    assert "Path not found" not in str(info.value) and "https:/e" not in str(info.value)
    if "github.com/karpathy" in url:
        assert "clone the repository and pass the folder" in info.value.cause


def test_a_url_from_load_model_reaches_the_fake_api(fake_gist_api: FakeGistAPI, tmp_path: Path) -> None:
    fake_gist_api.add_tb_example(GID)
    m = load_model(f"https://gist.github.com/tb-user/{GID}.js", api_url=fake_gist_api.url, cache_dir=tmp_path)
    assert m.source.gist_id == GID and m.name == "CustomTransformer"


@pytest.mark.bad_input
def test_a_class_instead_of_an_instance() -> None:
    for kwargs in ({"source": MyLM}, {"model": MyLM}):
        with pytest.raises(SourceError) as info:
            load_model(**kwargs)  # type: ignore[arg-type]
        assert "load_model got the class MyLM, not a model: instantiate it: MyLM()" in info.value.cause


@pytest.mark.bad_input
def test_a_state_dict_says_to_build_the_model_first() -> None:
    with pytest.raises(SourceError, match="state_dict") as info:
        load_model(build_example().state_dict())
    assert "load_state_dict" in info.value.fix


@pytest.mark.bad_input
@pytest.mark.skipif(
    torch.cuda.is_available(), reason="this machine has CUDA; the refusal needs a machine without"
)
def test_cuda_without_cuda_lists_what_is_available() -> None:
    for device in ("cuda", "cuda:0", torch.device("cuda")):
        with pytest.raises(DeviceError) as info:
            load_model(device=device)
        cause = info.value.cause
        assert cause.startswith("CUDA is not available") and (
            "torch build" in cause or "this machine" in cause
        )
        assert f"available: {', '.join(available_devices())}; use device='cpu'" in cause
    with pytest.raises(DeviceError, match="CUDA is not available"):
        load_model(load_model(), device="cuda")  # moving a LoadedModel checks too


@pytest.mark.bad_input
def test_device_errors_come_before_any_download(fake_gist_api: FakeGistAPI, tmp_path: Path) -> None:
    with pytest.raises(DeviceError, match="not a device name") as info:
        load_model(GID, device="gpu", api_url=fake_gist_api.url, cache_dir=tmp_path)
    assert "cpu" in info.value.fix and fake_gist_api.requests == []


@pytest.mark.bad_input
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA machine (a GPU CI runner)")
def test_cuda_index_beyond_the_devices() -> None:
    with pytest.raises(DeviceError, match="does not exist"):
        check_device(f"cuda:{torch.cuda.device_count()}")


def test_cpu_is_accepted_and_missing_path_still_says_path() -> None:
    assert check_device("cpu") == torch.device("cpu") and check_device(None) is None
    with pytest.raises(LoadError, match="Path not found: no/such/folder"):
        load_model("no/such/folder")

"""The sink conformance suite and realistic test data for sink authors.

Every sink, first-party or not, proves the same contract against its own fake
platform (its *peer*), talking to it over real sockets:

```python
from hub.testing import SinkConformance

class TestMySinkConformance(SinkConformance):
    @pytest.fixture
    def peer(self): ...      # a running fake platform implementing `SinkPeer`
    @pytest.fixture
    def secrets(self): ...   # the secret values configured into the sink
    @pytest.fixture
    def sink(self, peer, secrets): ...  # a configured Sink pointed at the peer
```

The suite needs pytest and pytest-asyncio; its async tests carry
``@pytest.mark.asyncio`` so they run in strict and auto mode alike (async
fixtures in strict mode need ``@pytest_asyncio.fixture``). See the "Testing a
sink" section of docs/plugins.md.
"""

from hub.testing.conformance import SinkConformance, SinkPeer, deliver_all
from hub.testing.data import (
    MappedSpec,
    default_mapped,
    make_batch,
    make_delivery,
    sample_account,
    sample_client,
    sample_notice,
    sample_record,
)

__all__ = [
    "MappedSpec",
    "SinkConformance",
    "SinkPeer",
    "default_mapped",
    "deliver_all",
    "make_batch",
    "make_delivery",
    "sample_account",
    "sample_client",
    "sample_notice",
    "sample_record",
]

"""Reading `/metrics` in tests: the samples of one scrape, and the change between two."""

from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True)
class Scrape:
    """The samples of one `/metrics` answer, by name and labels.

    The registry is the process's, shared by every app a test run builds: compare two scrapes
    (counters only grow) rather than reading absolute values.
    """

    samples: dict[tuple[str, frozenset[tuple[str, str]]], float]

    def value(self, name: str, **labels: str) -> float:
        """A sample's value; 0 when the series does not exist yet."""
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def grew(self, before: "Scrape", name: str, **labels: str) -> float:
        """How much a sample grew since an earlier scrape."""
        return self.value(name, **labels) - before.value(name, **labels)


async def scrape(http: httpx.AsyncClient) -> Scrape:
    """Scrape `/metrics` (parsing the text format, which must be valid)."""
    response = await http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    samples = {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }
    return Scrape(samples)

"""Guards for tests that must stop before some work starts."""


def refuse_calls(monkeypatch, module, names, what: str) -> None:
    """Make a call of any of ``names`` in ``module`` fail the test, saying ``what`` started."""

    def refuse(*args, **kwargs):
        raise AssertionError(what)

    for name in names:
        monkeypatch.setattr(module, name, refuse)

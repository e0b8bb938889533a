import pytest

@pytest.mark.e2e
def test_signal_reaches_fill():
    pass

@pytest.mark.slow
@pytest.mark.e2e
def test_crash_recovery():
    pass

class TestHealth:
    @pytest.mark.parametrize("service", ["risk-manager", "execution"])
    def test_health(self, service):
        pass

@pytest.mark.flaky
def test_metrics_scrape():
    pass

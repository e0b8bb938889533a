def test_nothing_special():
    pass

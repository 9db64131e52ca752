"""Demo cases (filled in below)."""


def build_demo(town, write):
    pass


def delete_demo(write):
    pass

"""The Lab's pages, in the course's order: the page list numbers them 1, 2, 3... in this order.
A new page is one line here (its class, imported from its module)."""

from __future__ import annotations

from playground.lab.activations import ActivationsPage
from playground.lab.backprop import BackpropPage
from playground.lab.batch_norm import BatchNormPage
from playground.lab.convolution import ConvolutionPage
from playground.lab.initialization import InitializationPage
from playground.lab.optimizer_race import OptimizerRacePage
from playground.lab.page import LabPage
from playground.lab.perceptron import PerceptronPage
from playground.lab.regularization import RegularizationPage

PAGES: tuple[type[LabPage], ...] = (
    PerceptronPage,
    ActivationsPage,
    OptimizerRacePage,
    BackpropPage,
    InitializationPage,
    BatchNormPage,
    RegularizationPage,
    ConvolutionPage,
)


def page_key(page: type[LabPage]) -> str:
    """The name a page is kept under in settings: its module's, e.g. "perceptron"."""
    return page.__module__.rsplit(".", 1)[-1]

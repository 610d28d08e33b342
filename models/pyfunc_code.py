"""The model's code for MLflow's models-from-code logging (see `models.pyfunc`)."""

from mlflow.models import set_model

from frontdoor.models.pyfunc import FrontDoorPyfunc

set_model(FrontDoorPyfunc())

"""allocopt: plan where and when AI compute jobs run.

Public API::

    from allocopt import load_problem, solve, validate, Model
    plan = solve(load_problem("data/examples/quickstart.json"), time_limit=10)
"""

from .errors import ProblemError as ProblemError
from .errors import ScalingWarning as ScalingWarning
from .errors import SolverError as SolverError
from .formats import load_problem as load_problem
from .formats import read_data as read_data
from .formats import save_problem as save_problem
from .formats import write_json as write_json
from .model import Model as Model
from .params import SolveParams as SolveParams
from .plan import Assignment as Assignment
from .plan import Plan as Plan
from .plan import SolveStatus as SolveStatus
from .plan import Unplaced as Unplaced
from .problem import Problem as Problem
from .solve import solve as solve
from .solve import solvers as solvers
from .validate import Violation as Violation
from .validate import compute_metrics as compute_metrics
from .validate import is_valid as is_valid
from .validate import validate as validate

__version__ = "0.1.0"

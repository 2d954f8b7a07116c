"""Staff roles (store/users.py keeps them per user): a module of its own, so the CLI's argument
parser and the staff rooms name them without importing the database layer."""

ROLES = ("therapist", "technician")

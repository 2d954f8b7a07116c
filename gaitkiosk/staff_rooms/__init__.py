"""The staff rooms' views and actions, one module per room (gaitkiosk/staff_views.py says how)."""

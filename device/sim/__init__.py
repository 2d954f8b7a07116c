"""The virtual patient: a simulated person on a simulated mat and insoles."""

"""Tests of live sync across devices and of titles written by the model."""

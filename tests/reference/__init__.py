"""Test oracles: plain numpy implementations the compiled package code is compared with."""

"""Independent implementations that tests check parcelnet against, and benchmarks run beside it:
the SimPy peer of the simulation rules and the grouped (cohort) simulator. They never import
the code they check, except grouped_sim, which shares the path table and rules by design."""

"""Batteries.

Physics, dispatch, controllers (threshold, MPC, policy), observation, the
perfect-foresight optimum, the day-ahead commitment and the auction calendar.
"""

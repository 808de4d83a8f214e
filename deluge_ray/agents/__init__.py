"""Agent loops: one loop on the driver, thousands of loops on SubAgent actors.

- ``_loop``: the agent loop itself (model call, tool calls of a round run concurrently,
  stop reasons), independent of where the model call goes.
- ``_swarm``: the swarm records (``LoopJob``, ``LoopEvent``, ``Spent``, ``SwarmSetup``) and
  the driver-side ``SubAgentPool`` that spreads loops over SubAgent actors and restarts a dead
  actor's loops from their last round.
"""

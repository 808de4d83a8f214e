"""Agent loops: one loop on the driver, thousands of loops on SubAgent actors.

- ``_loop``: the agent loop itself (model call, tool calls of a round run concurrently,
  stop reasons), independent of where the model call goes; the driver-side entry points
  ``run_agent_loop`` / ``start_agent_loop_nowait`` / ``wait_for_agent_loop``.
- ``_context``: ``AgentContext``, the narrow view of a client that loops work against
  (built by ``LLMClient``; agents never read the client's private attributes).
- ``_records``: what travels to and from SubAgent actors (``SwarmSetup``, ``LoopJob``,
  ``LoopEvent``, ``Spent``).
- ``_checkpoint``: a loop's checkpoints on both ends of the wire (pure, no Ray).
- ``_host``: ``LoopHost``, what a SubAgent actor does (``deluge_ray.actors.sub_agent`` is
  its Ray shell).
- ``_pool``: ``SubAgentPool``, the driver side: spreads loops over SubAgent actors and
  restarts a dead actor's loops from their last round.
- ``_swarm``: ``process_agent_loops_async`` / ``_sync``, the public swarm entry points.
- ``_durable``: ``checkpoint=``, swarms recorded per round that resume after the driver died.
"""

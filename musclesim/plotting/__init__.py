"""Plotly figures of musclesim results, one module per view (:mod:`musclesim.plot` re-exports
their public names): ``style``, ``labels``, ``body`` (side view), ``frontal`` (front and top
views), ``measures``, ``explain`` (the why panel), ``graph`` (the interaction graph)."""

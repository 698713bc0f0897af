def post_init_hook(env):
    """Existing POS lines get their valued cost from the layers already in the database."""
    env["pos.order.line"]._ru_refresh_valuation_cost()

"""Life events (pregnancy, delivery, marriage plans, contraception) and target groups."""

"""musclesim: an anatomical muscle-interaction simulator."""

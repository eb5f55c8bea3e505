from services.registry.service import SPEC
from shared.service import main

main(SPEC)

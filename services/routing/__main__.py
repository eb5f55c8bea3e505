from services.routing.service import SPEC
from shared.service import main

main(SPEC)

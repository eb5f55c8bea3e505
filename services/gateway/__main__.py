from services.gateway.service import SPEC
from shared.service import main

main(SPEC)

from services.dashboard.service import SPEC
from shared.service import main

main(SPEC)

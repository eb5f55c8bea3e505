from services.lan_writer.service import SPEC
from shared.service import main

main(SPEC)

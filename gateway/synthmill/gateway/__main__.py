from synthmill.gateway.main import run

run()

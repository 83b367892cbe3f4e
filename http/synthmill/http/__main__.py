from synthmill.http.main import run

run()

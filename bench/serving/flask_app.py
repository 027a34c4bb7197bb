# P4's baseline: Flask answering the very bytes Frost's cache serves, from memory, with the
# seed's content type. Run under gunicorn (Debian's python3-flask and gunicorn):
#   FROST_BENCH_BODY=body.json gunicorn -w 2 -k gthread --threads 8 -b 127.0.0.1:PORT flask_app:app
import os

from flask import Flask, Response

BODY = open(os.environ["FROST_BENCH_BODY"], "rb").read()
app = Flask(__name__)


@app.route("/trips/monthly")
def monthly():
    return Response(BODY, mimetype="application/json", headers={"Access-Control-Allow-Origin": "*"})

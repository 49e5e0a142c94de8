"""The prediction service (FastAPI + uvicorn) and its review page; ``pip install 'diploml[serve]'``.

    diploml serve --model RUN_DIR [--backend onnx-int8] [--port 8000]

``diploml.serve.app.create_app`` builds the app; ``diploml.serve.cli`` holds the command-line glue
(``serve`` and ``predict --engine ray``).
"""

class RayPrometheusStatLogger:  # accepted by AsyncLLM.from_engine_args; the stand-in logs nothing
    pass

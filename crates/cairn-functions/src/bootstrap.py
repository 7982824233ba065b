"""cairn's runtime interface client for python3.x Lambda functions.

Used when the interpreter has no awslambdaric. It speaks the Lambda Runtime API at
$AWS_LAMBDA_RUNTIME_API exactly as awslambdaric does: load the handler (`module.function`,
module from sys.path), then loop next -> handler(event, context) -> response or error.
Error documents, error types and the `[ERROR]` log lines follow awslambdaric, so a function
behaves the same here, under awslambdaric and on AWS.

Usage: python cairn_bootstrap.py <module.function>
"""

import decimal
import http.client
import importlib
import json
import logging
import os
import sys
import time
import traceback

BASE = "/2018-06-01/runtime"
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
# awslambdaric writes a multi-line error as one log event: lines joined by CR, indentation
# turned into no-break spaces.
LINE_JOIN = "\r"
INDENT = "\u00a0"


class Fault(Exception):
    def __init__(self, error_type, msg, trace=None):
        super().__init__(msg)
        self.error_type = error_type
        self.msg = msg
        self.trace = trace


class Unbuffered:
    """print() output reaches the log the moment it is written, as on AWS."""

    def __init__(self, stream):
        self.stream = stream

    def __getattr__(self, attr):
        return getattr(self.stream, attr)

    def write(self, msg):
        self.stream.write(msg)
        self.stream.flush()

    def writelines(self, msgs):
        self.stream.writelines(msgs)
        self.stream.flush()


_REQUEST_ID = ""
_UNHANDLED_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function code. "
    "However, in rare cases, a Lambda runtime update can cause unexpected function behavior. "
    "For functions using managed runtimes, runtime updates can be triggered by a function change, "
    "or can be applied automatically. To determine if the runtime has been updated, check the "
    "runtime version in the INIT_START log entry. If this error correlates with a change in the "
    "runtime version, you may be able to mitigate this error by temporarily rolling back to the "
    "previous runtime version. For more information, see "
    "https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html\r"
)


class _RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = _REQUEST_ID
        record.tenant_id = None
        return True


class _StdoutHandler(logging.Handler):
    def emit(self, record):
        sys.stdout.write(self.format(record))


def setup_logging():
    """The root logger writes as the Python runtime's does: level, UTC time, request id."""
    logging.Formatter.converter = time.gmtime
    handler = _StdoutHandler()
    handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
            "%Y-%m-%dT%H:%M:%S",
        )
    )
    handler.addFilter(_RequestIdFilter())
    logging.getLogger().addHandler(handler)
    level = {None: "", "TRACE": "DEBUG"}.get(
        os.environ.get("AWS_LAMBDA_LOG_LEVEL"), os.environ.get("AWS_LAMBDA_LOG_LEVEL")
    ).upper()
    if level in logging._nameToLevel:
        logging.getLogger().setLevel(level)


class RuntimeApi:
    """One kept-alive connection to the Runtime API, reopened when it drops."""

    def __init__(self, address):
        self.address = address
        self.conn = None

    def call(self, method, path, body=None, headers=None):
        for attempt in (0, 1):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.address)
                self.conn.request(method, path, body=body, headers=headers or {})
                resp = self.conn.getresponse()
                return resp.status, resp.headers, resp.read()
            except (ConnectionError, http.client.HTTPException, OSError):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                if attempt:
                    raise

    def next(self):
        status, headers, body = self.call("GET", BASE + "/invocation/next")
        if status != 200:
            raise RuntimeError("next invocation: HTTP %d %r" % (status, body))
        return headers, body

    def post_response(self, request_id, body, content_type):
        self.call(
            "POST",
            "%s/invocation/%s/response" % (BASE, request_id),
            body,
            {"Content-Type": content_type},
        )

    def post_error(self, request_id, doc):
        self.call(
            "POST",
            "%s/invocation/%s/error" % (BASE, request_id),
            to_json(doc).encode("utf-8"),
            {"Content-Type": "application/json", ERROR_TYPE_HEADER: doc["errorType"]},
        )

    def post_init_error(self, doc):
        self.call(
            "POST",
            BASE + "/init/error",
            to_json(doc).encode("utf-8"),
            {"Content-Type": "application/json", ERROR_TYPE_HEADER: doc["errorType"]},
        )


def _decimal(obj):
    if isinstance(obj, decimal.Decimal):
        if obj.is_nan():
            return float("nan")
        return int(obj) if obj == obj.to_integral_value() else float(obj)
    raise TypeError("Object of type %s is not JSON serializable" % type(obj).__name__)


# Python 3.12 and later runtimes answer non-ASCII text unescaped.
_ENSURE_ASCII = os.environ.get("AWS_EXECUTION_ENV") not in {
    "AWS_Lambda_python3.12",
    "AWS_Lambda_python3.13",
    "AWS_Lambda_python3.14",
    "AWS_Lambda_python3.15",
}


def to_json(obj):
    return json.dumps(obj, default=_decimal, ensure_ascii=_ENSURE_ASCII)


def make_error(message, error_type, stack_trace, request_id=None):
    return {
        "errorMessage": message if message else "",
        "errorType": error_type if error_type else "",
        "requestId": request_id if request_id is not None else "",
        "stackTrace": stack_trace if stack_trace else [],
    }


def log_error(doc):
    desc = "[ERROR]"
    if doc.get("errorType"):
        desc += " " + doc["errorType"]
    if doc.get("errorMessage"):
        if doc.get("errorType"):
            desc += ":"
        desc += " " + doc["errorMessage"]
    lines = [desc]
    stack = doc.get("stackTrace")
    if stack is not None:
        lines.append("Traceback (most recent call last):")
        for element in stack:
            if element == "":
                lines.append("")
                continue
            for line in element.splitlines():
                stripped = line.lstrip(" ")
                lines.append(INDENT * (len(line) - len(stripped)) + stripped)
    sys.stdout.write(LINE_JOIN.join(lines) + "\n")


def user_frames(tb):
    frames = traceback.extract_tb(tb)
    here = os.path.abspath(__file__)
    for i, frame in enumerate(frames):
        if os.path.abspath(frame.filename) != here:
            return traceback.format_list(frames[i:])
    return traceback.format_list(frames)


def load_handler(handler):
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise Fault(
            "Runtime.MalformedHandlerName", "Bad handler '{}': {}".format(handler, str(e))
        )
    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise Fault(
                "Runtime.BuiltInModuleConflict",
                "Cannot use built-in module {} as a handler module".format(modname),
            )
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise Fault(
            "Runtime.ImportModuleError",
            "Unable to import module '{}': {}".format(modname, str(e)),
        )
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise Fault(
            "Runtime.UserCodeSyntaxError",
            "Syntax error in module '{}': {}".format(modname, str(e)),
            trace,
        )
    try:
        return getattr(module, fname)
    except AttributeError:
        raise Fault(
            "Runtime.HandlerNotFound",
            "Handler '{}' missing on module '{}'".format(fname, modname),
        )


class Obj:
    """An attribute bag (the context's client_context, identity)."""

    def __init__(self, fields, values):
        for field in fields:
            setattr(self, field, (values or {}).get(field))

    def __repr__(self):
        return "%s(%r)" % (type(self).__name__, self.__dict__)


class LambdaContext:
    def __init__(self, request_id, function_arn, deadline_ms, client_context):
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = function_arn
        self.tenant_id = None
        self.client_context = None
        if client_context is not None:
            self.client_context = Obj(("custom", "env", "client"), client_context)
            self.client_context.client = (
                Obj(
                    (
                        "installation_id",
                        "app_title",
                        "app_version_name",
                        "app_version_code",
                        "app_package_name",
                    ),
                    self.client_context.client,
                )
                if self.client_context.client is not None
                else None
            )
        self.identity = Obj(("cognito_identity_id", "cognito_identity_pool_id"), None)
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        left = self._deadline_ms - int(time.time() * 1000)
        return left if left > 0 else 0

    def log(self, msg):
        sys.stdout.write(str(msg))


def handle(api, handler, headers, body):
    global _REQUEST_ID
    request_id = headers.get("Lambda-Runtime-Aws-Request-Id")
    _REQUEST_ID = request_id or ""
    trace = headers.get("Lambda-Runtime-Trace-Id")
    if trace is not None:
        os.environ["_X_AMZN_TRACE_ID"] = trace
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    doc = None
    try:
        client_context = headers.get("Lambda-Runtime-Client-Context")
        if client_context:
            try:
                client_context = json.loads(client_context)
            except Exception as e:
                raise Fault(
                    "Runtime.LambdaContextUnmarshalError",
                    "Unable to parse Client Context JSON: {}".format(str(e)),
                )
        else:
            client_context = None
        context = LambdaContext(
            request_id,
            headers.get("Lambda-Runtime-Invoked-Function-Arn"),
            int(headers.get("Lambda-Runtime-Deadline-Ms") or 0),
            client_context,
        )
        if (headers.get("Content-Type") or "application/json") == "application/json":
            try:
                event = json.loads(body)
            except Exception as e:
                raise Fault(
                    "Runtime.UnmarshalError", "Unable to unmarshal input: {}".format(str(e))
                )
        else:
            event = body
        result = handler(event, context)
        if isinstance(result, bytes):
            payload, content_type = result, "application/unknown"
        else:
            try:
                payload = to_json(result).encode("utf-8")
            except Exception as e:
                raise Fault(
                    "Runtime.MarshalError", "Unable to marshal response: {}".format(str(e))
                )
            content_type = "application/json"
    except Fault as f:
        doc = make_error(f.msg, f.error_type, f.trace, request_id)
    except Exception:
        etype, value, tb = sys.exc_info()
        doc = make_error(str(value), etype.__name__, user_frames(tb), request_id)
    if doc is not None:
        log_error(doc)
        api.post_error(request_id, doc)
    else:
        api.post_response(request_id, payload, content_type)


def main():
    sys.stdout = Unbuffered(sys.stdout)
    sys.stderr = Unbuffered(sys.stderr)
    setup_logging()
    api = RuntimeApi(os.environ["AWS_LAMBDA_RUNTIME_API"])
    handler_name = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("_HANDLER", "")
    # The handler's module imports from the code directory, not from beside this file.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    try:
        handler = load_handler(handler_name)
    except Fault as f:
        doc = make_error(f.msg, f.error_type, f.trace)
    except Exception:
        etype, value, tb = sys.exc_info()
        doc = make_error(str(value), etype.__name__, user_frames(tb))
    else:
        doc = None
    if doc is not None:
        logging.warning(_UNHANDLED_WARNING)
        log_error(doc)
        api.post_init_error(doc)
        sys.exit(1)
    while True:
        headers, body = api.next()
        handle(api, handler, headers, body)


if __name__ == "__main__":
    main()

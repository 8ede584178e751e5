// Mocha root setup. The SDK warns once per thread that it will need Node 22 from 2027: true,
// and printed by every worker thread it buries the specification output. README says so once.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
// Run metrics are EMF lines on stdout; specs that run a handler in this process would print them
// between the specification lines. The spec of the metrics runs the bundled functions in their
// own processes, with their declared environment, where they are on.
process.env.POWERTOOLS_METRICS_DISABLED = "true";

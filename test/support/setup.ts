// Mocha root setup. The SDK warns once per thread that it will need Node 22 from 2027: true,
// and printed by every worker thread it buries the specification output. README says so once.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

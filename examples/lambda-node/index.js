// A Lambda handler as AWS documents it for Node.js: an async function of the event and the
// context. AWS's runtime interface client (aws-lambda-ric, in node_modules) calls it.
exports.hello = async (event, context) => {
  const name = event.name ?? "World";
  console.log(`${context.functionName} handles ${context.awsRequestId}`);
  if (name === "") throw new TypeError("the name is empty");
  return { msg: `Hello ${name}`, memory: context.memoryLimitInMB };
};

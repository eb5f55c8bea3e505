// Healthcheck of the single-node replica set "rs0" (run by mongosh inside the mongo container).
//
// Transactions need a replica set, so the first run initiates it; later runs only check.
// Healthy means this node is the writable primary: services may start using it.
// TSDX_MONGO_RS_HOST is the address clients use to reach this node (compose service name).
const member = process.env.TSDX_MONGO_RS_HOST || "mongo:27017";

try {
  rs.status();
} catch (error) {
  if (error.codeName !== "NotYetInitialized") {
    throw error;
  }
  rs.initiate({ _id: "rs0", members: [{ _id: 0, host: member }] });
}

if (!db.hello().isWritablePrimary) {
  quit(1);
}

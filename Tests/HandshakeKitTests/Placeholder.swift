import Testing
@Test func placeholderHandshakeKitTests() {}

package io.marginal.ops;

/**
 * A stand-in child process for supervision tests (the supervisor is the subject, not the child):
 * logs its ready line unless {@code FAKE_READY=false}, then runs until killed or until its
 * standard input closes (as a launcher-watching child does).
 */
public final class FakeChildService {

  private FakeChildService() {
  }

  public static void main(String[] args) throws Exception {
    System.out.println("fake child " + ProcessHandle.current().pid() + " starting");
    if (!"false".equals(System.getenv("FAKE_READY"))) {
      System.out.println("fake child consuming");
    }
    System.out.flush();
    while (System.in.read() >= 0) {
      // wait for the parent to go away
    }
  }
}

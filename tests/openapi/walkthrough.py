"""The README's five-minute walkthrough, through a client generated from the served OpenAPI
document by openapi-python-client: what an integrator would write.

    python walkthrough.py BASE_URL ADMIN_PASSWORD

The generated package `attendance_client` must be importable (PYTHONPATH). Each step checks
the typed answer; the script exits non-zero at the first surprise and prints each step done.
The run uses fresh names (a suffix from the clock), so it can run twice against one server.
"""

import datetime
import sys
import time

from attendance_client import AuthenticatedClient, Client
from attendance_client.api.attendance import correct_attendance, record_attendance
from attendance_client.api.auth import login
from attendance_client.api.courses import assign_teacher, create_course
from attendance_client.api.enrollments import enroll_student
from attendance_client.api.sessions import get_session, schedule_session
from attendance_client.api.statistics import get_course_statistics
from attendance_client.api.students import create_student
from attendance_client.api.users import create_user
from attendance_client.models import (
    CorrectionBody,
    EnrollBody,
    LoginRequest,
    NewCourse,
    NewSession,
    NewStudent,
    NewUser,
    Problem,
    RecordBody,
    TeacherBody,
)


def step(text):
    print(f"ok: {text}", flush=True)


def expect(response, status):
    """The parsed body of a response with the expected status, or exit with what came."""
    if response.status_code != status:
        sys.exit(f"expected {status}, got {response.status_code}: {response.content!r}")
    return response.parsed


def sign_in(base, username, password):
    answer = expect(
        login.sync_detailed(
            client=Client(base_url=base),
            body=LoginRequest(username=username, password=password),
        ),
        200,
    )
    assert answer.user.username == username, answer
    return AuthenticatedClient(base_url=base, token=answer.token)


def main(base, admin_password):
    suffix = str(int(time.time() * 1000) % 10**9)
    student_id, course_id, teacher = f"S{suffix}", f"CS{suffix}", f"ada{suffix}"

    # 1. log in
    admin = sign_in(base, "admin", admin_password)
    step("signed in as admin")

    # 2. a student, a course, an enrolment, a teacher
    student = expect(
        create_student.sync_detailed(
            client=admin,
            body=NewStudent(id=student_id, name="Zoë Ñúñez", email="zoe@example.edu"),
        ),
        201,
    )
    assert (student.id, student.name, student.erased) == (student_id, "Zoë Ñúñez", False)
    step(f"created student {student.id}")
    course = expect(
        create_course.sync_detailed(
            client=admin,
            body=NewCourse(code=course_id, name="Introduction to Programming", credits_=6),
        ),
        201,
    )
    assert (course.code, course.credits_) == (course_id, 6), course
    step(f"created course {course.code}")
    expect(
        enroll_student.sync_detailed(
            course_id,
            client=admin,
            body=EnrollBody(student_id=student_id, effective_from=datetime.date(2026, 9, 1)),
        ),
        200,
    )
    step(f"enrolled {student_id} in {course_id}")
    user = expect(
        create_user.sync_detailed(
            client=admin,
            body=NewUser(username=teacher, password="a-long-password", role="teacher"),
        ),
        201,
    )
    expect(assign_teacher.sync_detailed(course_id, client=admin, body=TeacherBody(user_id=user.id)), 200)
    step(f"assigned teacher {teacher}")

    # 3. a session, then attendance (as the teacher)
    scheduled = expect(
        schedule_session.sync_detailed(
            course_id,
            client=admin,
            body=NewSession(
                title="Lecture 1",
                starts_at=datetime.datetime(2026, 9, 7, 9, 0, tzinfo=datetime.timezone.utc),
                duration_minutes=90,
            ),
        ),
        201,
    )
    session_id = scheduled.id
    step(f"scheduled session {session_id}")
    ada = sign_in(base, teacher, "a-long-password")
    mark = expect(
        record_attendance.sync_detailed(
            client=ada,
            body=RecordBody(session_id=session_id, student_id=student_id, status="present"),
        ),
        201,
    )
    assert (mark.status, mark.changed) == ("present", True), mark
    assert mark.record_id == f"{session_id}:{student_id}", mark
    step("marked present")
    # The same mark again is the seed's "Already recorded", 200.
    again = expect(
        record_attendance.sync_detailed(
            client=ada,
            body=RecordBody(session_id=session_id, student_id=student_id, status="present"),
        ),
        200,
    )
    assert (again.changed, again.message) == (False, "Already recorded"), again
    step("the same mark again is already recorded")

    # 4. a different status is a correction, with a reason; as a plain mark it is refused
    # with a problem document the client reads as one.
    refused = expect(
        record_attendance.sync_detailed(
            client=ada,
            body=RecordBody(session_id=session_id, student_id=student_id, status="late"),
        ),
        409,
    )
    assert isinstance(refused, Problem) and refused.code == "correction_required", refused
    step(f"a second mark is refused: {refused.code} ({refused.title})")
    corrected = expect(
        correct_attendance.sync_detailed(
            session_id,
            student_id,
            client=ada,
            body=CorrectionBody(status="late", reason="arrived 20 minutes late"),
        ),
        200,
    )
    assert (corrected.status, corrected.changed) == ("late", True), corrected
    step("corrected to late")

    # 5. read the register and the statistics, once they reflect the correction
    register = expect(
        get_session.sync_detailed(
            session_id, client=ada, min_position=corrected.position, wait_ms=10_000
        ),
        200,
    )
    rows = {row.student_id: row for row in register.roster}
    assert register.freshness.caught_up, register.freshness
    assert rows[student_id].status == "late", rows
    assert rows[student_id].correction_reason == "arrived 20 minutes late", rows
    step("the register shows the correction and its reason")
    stats = expect(
        get_course_statistics.sync_detailed(
            course_id, client=ada, min_position=corrected.position, wait_ms=10_000
        ),
        200,
    )
    assert stats.freshness.caught_up, stats.freshness
    students = {s.student_id: s for s in stats.students}
    row = students[student_id]
    # Default policy: late weighs 1, so one late mark out of one is a rate of 100 %.
    assert (row.late, row.present, row.rate) == (1, 0, 100.0), row
    assert stats.totals.taken == 1, stats.totals
    step(f"statistics: {student_id} late 1, rate {row.rate} %")
    print("walkthrough passed")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from hosts.notes.notes.models import Note, Notebook


def home(request):
    return render(request, "notes/home.html")


@login_required
def note_detail(request, pk):
    note = get_object_or_404(Note.objects.filter(notebook__group__user=request.user), pk=pk)
    return render(request, "notes/note.html", {"note": note, "others": ()})


def note_public(request, pk):
    """A page anyone may see (a published note), with the note's history for those allowed."""
    note = get_object_or_404(Note, pk=pk, status=Note.Status.PUBLISHED)
    return render(request, "notes/note.html", {"note": note, "others": ()})


@login_required
def notebook_detail(request, pk):
    notebook = get_object_or_404(Notebook.objects.filter(group__user=request.user), pk=pk)
    notes = list(notebook.notes.order_by("pk")[:2])
    return render(request, "notes/notebook.html", {"notebook": notebook, "notes": notes})


@login_required
def rename_note(request, pk):
    from django.http import HttpResponse
    from django.views.decorators.http import require_POST  # noqa: F401

    note = get_object_or_404(Note.objects.filter(notebook__group__user=request.user), pk=pk)
    if request.method == "POST":
        note.title = request.POST["title"]
        note.save()
    return HttpResponse(note.title)
